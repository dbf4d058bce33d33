"""Go's text/template, Go's value formatting (floats, times, quoting) and RE2 regexes, one of each."""
