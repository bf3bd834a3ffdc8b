package check

import "slices"

// idSet is a set of int64 ids that stays small when ids are dense, as
// message ids are: ids are grouped by their upper 48 bits, and each group
// holds either a sorted list of its low 16 bits (up to 4096 ids, 2 bytes
// each) or a 65536-bit bitmap (8 KiB). Ten million consecutive ids take
// about 1.3 MB; ten million scattered ids at most 20 MB plus the map.
type idSet struct {
	groups map[int64]*idGroup
	n      int
}

type idGroup struct {
	list []uint16 // sorted, while bits is nil
	bits *[1024]uint64
}

const listMax = 4096

func newIDSet() *idSet { return &idSet{groups: map[int64]*idGroup{}} }

// Add inserts id and reports whether it was new.
func (s *idSet) Add(id int64) bool {
	hi, lo := id>>16, uint16(id&0xffff)
	g := s.groups[hi]
	if g == nil {
		g = &idGroup{}
		s.groups[hi] = g
	}
	if g.bits != nil {
		w, bit := lo>>6, uint64(1)<<(lo&63)
		if g.bits[w]&bit != 0 {
			return false
		}
		g.bits[w] |= bit
		s.n++
		return true
	}
	i, found := slices.BinarySearch(g.list, lo)
	if found {
		return false
	}
	if len(g.list) < listMax {
		g.list = slices.Insert(g.list, i, lo)
		s.n++
		return true
	}
	g.bits = new([1024]uint64)
	for _, v := range g.list {
		g.bits[v>>6] |= 1 << (v & 63)
	}
	g.list = nil
	g.bits[lo>>6] |= 1 << (lo & 63)
	s.n++
	return true
}

// Has reports whether id is in the set.
func (s *idSet) Has(id int64) bool {
	g := s.groups[id>>16]
	if g == nil {
		return false
	}
	lo := uint16(id & 0xffff)
	if g.bits != nil {
		return g.bits[lo>>6]&(1<<(lo&63)) != 0
	}
	_, found := slices.BinarySearch(g.list, lo)
	return found
}

// Len returns the number of ids in the set.
func (s *idSet) Len() int { return s.n }
