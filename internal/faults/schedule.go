package faults

import "math/rand/v2"

// Mix is a random schedule: each request gets a fault with the given probabilities (the rest
// pass), from a PCG seeded with seed and the request's sequence number, so a run is repeatable for
// the same request order. ops, when not empty, limits the faults to those operations.
func Mix(seed uint64, probs map[Fault]float64, ops ...string) Schedule {
	only := map[string]bool{}
	for _, op := range ops {
		only[op] = true
	}
	order := []Fault{Error500, Throttle, ResetBefore, ResetAfter, Delay}
	return func(r Request) Fault {
		if len(only) > 0 && !only[r.Op] {
			return Pass
		}
		x := rand.New(rand.NewPCG(seed, uint64(r.Seq))).Float64()
		for _, f := range order {
			if x < probs[f] {
				return f
			}
			x -= probs[f]
		}
		return Pass
	}
}

// Always returns f for every request (of ops, when given).
func Always(f Fault, ops ...string) Schedule {
	only := map[string]bool{}
	for _, op := range ops {
		only[op] = true
	}
	return func(r Request) Fault {
		if len(only) > 0 && !only[r.Op] {
			return Pass
		}
		return f
	}
}
