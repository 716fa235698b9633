#!/bin/sh
# Rebuilds ../agent.java/jennifer.jar from StandInAgent.java, reproducibly
# (Java 8 bytecode, fixed file times, zip -X). Run from this directory.
set -eu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
javac --release 8 -d "$out" com/example/jennifer/StandInAgent.java
mkdir -p "$out/META-INF"
cp MANIFEST.MF "$out/META-INF/MANIFEST.MF"
find "$out" -exec touch -h -d '2024-01-01 00:00:00 UTC' {} +
rm -f ../agent.java/jennifer.jar
(cd "$out" && zip -X -q -D ../jar.zip META-INF/MANIFEST.MF com/example/jennifer/StandInAgent.class && mv ../jar.zip "$OLDPWD/../agent.java/jennifer.jar")
