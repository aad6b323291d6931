#!/usr/bin/env python3
"""Splits each generated NAME.grpc.swift by concern, at the generator's own MARK lines:
NAME.grpc.swift keeps the service's namespace and method descriptors, NAME+Server.grpc.swift
the server protocols, NAME+Client.grpc.swift the client. Each part keeps the file's header
(comments and imports). Run by scripts/generate-protos.sh; idempotent on already split files."""
import glob
import os
import re
import sys

def split(path):
    lines = open(path).read().split("\n")
    server = next((i for i, l in enumerate(lines) if re.match(r"^// MARK: .* \(server\)$", l)), None)
    client = next((i for i, l in enumerate(lines) if re.match(r"^// MARK: .* \(client\)$", l)), None)
    first = next((i for i, l in enumerate(lines) if l.startswith("// MARK: - ")), None)
    if server is None or client is None or first is None or not first < server < client:
        return False
    header = lines[:first]
    base = path[: -len(".grpc.swift")]
    parts = {
        path: lines[first:server],
        base + "+Server.grpc.swift": lines[server:client],
        base + "+Client.grpc.swift": lines[client:],
    }
    for name, body in parts.items():
        text = "\n".join(header + body).rstrip("\n") + "\n"
        with open(name, "w") as f:
            f.write(text)
    return True

if __name__ == "__main__":
    directory = sys.argv[1] if len(sys.argv) > 1 else "Sources/InterlinkMesh/Generated"
    for path in sorted(glob.glob(os.path.join(directory, "*.grpc.swift"))):
        if "+" not in os.path.basename(path) and split(path):
            print("split", os.path.basename(path))
