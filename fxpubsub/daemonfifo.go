package fxpubsub

// fifoChains splits one receive from a FIFO queue by message group, keeping receive order (which
// SQS makes the group's order) within each group and the order in which groups first appear.
// Messages without a group each make a chain of their own. The daemon hands each chain to one
// worker, so different groups run in parallel and one group's messages run one after another.
func fifoChains(msgs []*Message) [][]*Message {
	chains := make([][]*Message, 0, len(msgs))
	index := make(map[string]int, len(msgs))
	for _, m := range msgs {
		if m.MessageGroupID == "" {
			chains = append(chains, []*Message{m})
			continue
		}
		if i, ok := index[m.MessageGroupID]; ok {
			chains[i] = append(chains[i], m)
			continue
		}
		index[m.MessageGroupID] = len(chains)
		chains = append(chains, []*Message{m})
	}
	return chains
}
