#!/bin/sh
# A native action: wsk action create hello-sh hello.sh --native
# The input arrives as JSON in $1; the last line printed is the result.
echo "native action called with $1"
echo '{"greeting": "Hello from a native action!"}'
