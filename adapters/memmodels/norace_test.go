//go:build !race

package memmodels

const raceBuild = false
