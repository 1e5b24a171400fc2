"""Text normalisation for matching: a folded view of a text that maps back to exact original spans."""
