package memmodels

import (
	"container/heap"
	"slices"
)

// An index entry (a merchant's business date) holds its rows in the
// listing's order reversed: oldest first, so that rows, which mostly
// arrive in order, are appended, and the newest is at the end.

func (m *Models) insert(b []int32, i int32) []int32 {
	at, _ := slices.BinarySearchFunc(b, i, m.older)
	return slices.Insert(b, at, i)
}

func (m *Models) remove(b []int32, i int32) []int32 {
	if at, ok := slices.BinarySearchFunc(b, i, m.older); ok && b[at] == i {
		return slices.Delete(b, at, at+1)
	}
	return b
}

// walk visits the rows of the index entries newest first, across entries
// (a merge), starting below the cursor when there is one, until visit
// says stop.
func (m *Models) walk(bs [][]int32, cur *key, visit func(i int32) (stop bool)) {
	h := walkHeap{m: m, items: make([]walkItem, 0, len(bs))}
	for _, b := range bs {
		end := len(b)
		if cur != nil {
			end, _ = slices.BinarySearchFunc(b, *cur, m.olderThanKey)
		}
		if end > 0 {
			h.items = append(h.items, walkItem{b: b, at: end - 1})
		}
	}
	heap.Init(&h)
	for len(h.items) > 0 {
		it := &h.items[0]
		if visit(it.b[it.at]) {
			return
		}
		if it.at--; it.at < 0 {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
}

// walkItem is an index entry and the position of its next row to visit.
type walkItem struct {
	b  []int32
	at int
}

// walkHeap keeps the entry whose next row is newest on top.
type walkHeap struct {
	m     *Models
	items []walkItem
}

func (h *walkHeap) Len() int { return len(h.items) }
func (h *walkHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return h.m.older(a.b[a.at], b.b[b.at]) > 0
}
func (h *walkHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *walkHeap) Push(x any)    { h.items = append(h.items, x.(walkItem)) }
func (h *walkHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
