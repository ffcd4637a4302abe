"""The relay's pure half: reading lines, levels, cursors, batches, and what to follow."""
