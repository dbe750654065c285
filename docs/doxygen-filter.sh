#!/bin/sh
# Doxygen input filter: the public headers document every function in plain
# C comments (the house style); this turns a comment that starts a line into
# a Doxygen block and a comment after a declaration or enum value on the
# same line into a member comment, so the API reference carries the text.
# The file on disk is unchanged.
sed -e 's|^\([[:space:]]*\)/\*\([^*]\)|\1/**\2|' \
    -e 's|\([;,{]\)\([[:space:]]*\)/\*\([^*]\)|\1\2/**<\3|' "$1"
