package signinlog

import "fmt"

// What both stores do to their chunks besides writing them: purge
// (DropBefore) and packing events kept a row each (PackSingles).

// DropBefore returns the chunk of parts heads and docs without its events
// older than cut (Unix nanoseconds), and how many it left out. A chunk
// left with no event has Count 0.
func DropBefore(heads, docs []byte, cut int64) (Chunk, int, error) {
	hs, err := DecodeHeads(nil, heads, nil)
	if err != nil {
		return Chunk{}, 0, err
	}
	ds, err := DecodeDocs(nil, docs, nil)
	if err != nil {
		return Chunk{}, 0, err
	}
	if len(ds) != len(hs) {
		return Chunk{}, 0, fmt.Errorf("%w: %d heads and %d decisions", errBadChunk, len(hs), len(ds))
	}
	var enc ChunkEncoder
	dropped := 0
	for i := range hs {
		if hs[i].Time < cut {
			dropped++
			continue
		}
		enc.AddJSON(hs[i], ds[i])
	}
	if enc.Len() == 0 {
		return Chunk{}, dropped, nil
	}
	ch, _ := enc.Finish(nil)
	return ch, dropped, nil
}

// PackSingles packs events kept a row each (rows without heads, by
// ascending id) into chunks of up to ChunkEvents events with consecutive
// ids, and calls write with each chunk and the ids of the rows it
// replaces. Consecutive ids keep a chunk's id range free of any other
// chunk, now and later (a store finds an event's chunk as the one with the
// largest first id at or below its id): a gap could be ids another
// gateway drew and has not written yet.
func PackSingles(rows []ChunkRow, write func(Chunk, []int64) error) error {
	var scratch []byte
	for len(rows) > 0 {
		k := 1
		for k < len(rows) && k < ChunkEvents && rows[k].FirstID == rows[k-1].FirstID+1 {
			k++
		}
		var enc ChunkEncoder
		ids := make([]int64, k)
		for i, row := range rows[:k] {
			h, d, err := LegacyHead(row.FirstID, row.MinTime, row.Stored, &scratch)
			if err != nil {
				return err
			}
			doc, err := AppendDecisionJSON(nil, d)
			if err != nil {
				return fmt.Errorf("event %d: %w", row.FirstID, err)
			}
			enc.AddJSON(h, doc)
			ids[i] = row.FirstID
		}
		ch, _ := enc.Finish(nil)
		if err := write(ch, ids); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}
