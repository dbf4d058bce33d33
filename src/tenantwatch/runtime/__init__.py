"""The composition root: `builders` makes what a command uses, `root` the Runtime serve starts."""
