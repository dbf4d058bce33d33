"""Go's text/template (with printf and prometheus/common's helpers), Go's value formatting (floats, times, quoting) and RE2 regexes, one of each."""
