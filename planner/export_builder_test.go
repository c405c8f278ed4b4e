package planner

// BuildWithoutSpeculation is Build planning every key only once identity
// is known (as Build did before the Builder), for tests that compare the
// two.
func BuildWithoutSpeculation(in Input) (*Plan, error) {
	b, err := NewBuilder(in)
	if err != nil {
		return nil, err
	}
	b.noSpec = true
	b.Add(in.Live)
	return b.Plan()
}

// Planned is how many times b planned a key.
func (b *Builder) Planned() int { return b.planned }
