package gen

import (
	"math"
	"math/rand/v2"
)

// mix is the splitmix64 finaliser: a cheap, well-distributed hash of one
// word. Every per-message decision starts from mix of (seed, stream,
// index, purpose), which is what makes messages reproducible in any order.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash3 combines a seed with two coordinates and a purpose tag.
func hash3(seed, a, b, tag uint64) uint64 {
	return mix(mix(mix(seed^tag*0x632be59bd9b4e019)^a) ^ b)
}

// unit turns a hash into a float64 in [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// Purpose tags keep independent decisions about the same message apart.
const (
	tagGap uint64 = iota + 1
	tagMsg
	tagThreadRoot
	tagReply
	tagAttach
	tagStream
	tagUser
	tagBlob
	tagID
)

// rng is a reseedable PCG-backed generator. Reseeding per message keeps a
// message's content independent of every other message.
type rng struct {
	pcg *rand.PCG
	*rand.Rand
}

func newRNG() *rng {
	p := rand.NewPCG(0, 0)
	return &rng{pcg: p, Rand: rand.New(p)}
}

func (r *rng) seed(h uint64) { r.pcg.Seed(h, mix(h)) }

// pick returns a random element of a non-empty list.
func pick[T any](r *rng, list []T) T { return list[r.IntN(len(list))] }

// zipfIndex draws an index in [0, n) with probability proportional to
// 1/(i+1)^s, by inverting the continuous approximation of the cumulative
// weight. It needs no table, so it costs the same for any n.
func zipfIndex(u float64, n int, s float64) int {
	if n <= 1 {
		return 0
	}
	// Continuous CDF of x^-s on [1, n+1].
	var x float64
	if s == 1 {
		x = math.Exp(u * math.Log(float64(n)+1))
	} else {
		a := 1 - s
		hi := math.Pow(float64(n)+1, a)
		x = math.Pow(1+u*(hi-1), 1/a)
	}
	i := int(x) - 1
	if i < 0 {
		i = 0
	}
	if i >= n {
		i = n - 1
	}
	return i
}

// logNormal draws exp(mu + sigma*z).
func logNormal(r *rng, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}
