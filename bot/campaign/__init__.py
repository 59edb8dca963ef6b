"""Campaign tools beside the channels: quiz, daily fact, links, question log."""
