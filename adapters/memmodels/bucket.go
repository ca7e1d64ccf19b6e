package memmodels

import (
	"container/heap"
	"slices"
	"strings"

	"upay/projections"
)

// bucket is the slots of one index entry (a merchant's business date) in
// the listing's order reversed: oldest first, so that rows, which mostly
// arrive in order, are appended, and the newest is at the end.
type bucket []*slot

// older orders slots by (created, payment): the listing's key.
func older(a, b *slot) int {
	if a.created != b.created {
		if a.created < b.created {
			return -1
		}
		return 1
	}
	return strings.Compare(string(a.t.Payment), string(b.t.Payment))
}

func (b bucket) insert(s *slot) bucket {
	i, _ := slices.BinarySearchFunc(b, s, older)
	return slices.Insert(b, i, s)
}

func (b bucket) remove(s *slot) bucket {
	if i, ok := slices.BinarySearchFunc(b, s, older); ok && b[i] == s {
		return slices.Delete(b, i, i+1)
	}
	return b
}

// cursorSlot is the position of a cursor among slots.
func cursorSlot(c projections.Cursor) *slot {
	return &slot{t: projections.Transaction{Payment: c.Payment}, created: c.CreatedAt.UnixNano()}
}

// walk visits the rows of the buckets newest first, across buckets (a
// merge), starting below the cursor when there is one, until visit says
// stop.
func walk(bs []bucket, cur *slot, visit func(*slot) (stop bool)) {
	h := make(walkHeap, 0, len(bs))
	for _, b := range bs {
		end := len(b)
		if cur != nil {
			end, _ = slices.BinarySearchFunc(b, cur, older)
		}
		if end > 0 {
			h = append(h, walkItem{b: b, i: end - 1})
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		it := &h[0]
		if visit(it.b[it.i]) {
			return
		}
		if it.i--; it.i < 0 {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
}

// walkItem is a bucket and the index of its next row to visit.
type walkItem struct {
	b bucket
	i int
}

// walkHeap keeps the bucket whose next row is newest on top.
type walkHeap []walkItem

func (h walkHeap) Len() int           { return len(h) }
func (h walkHeap) Less(i, j int) bool { return older(h[i].b[h[i].i], h[j].b[h[j].i]) > 0 }
func (h walkHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *walkHeap) Push(x any)        { *h = append(*h, x.(walkItem)) }
func (h *walkHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
