"""Question answering over an index: answers with exact, located citations."""
