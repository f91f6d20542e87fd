#!/bin/sh
# Counts the lines of Java in the given files, leaving out imports, blank lines and comments
# (// lines and /* ... */ blocks, Javadoc included). The package line counts.
# Usage: examples/count-java-lines.sh examples/batch-runner/src/main/java/io/mezzo/examples/batch/*.java
awk '
  /^[[:space:]]*\/\*/ { in_comment = 1 }
  in_comment { if ($0 ~ /\*\//) in_comment = 0; next }
  /^[[:space:]]*\/\// { next }
  /^[[:space:]]*import[[:space:]]/ { next }
  /^[[:space:]]*$/ { next }
  { n++ }
  END { print n + 0 }
' "$@"
