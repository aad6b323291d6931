#!/usr/bin/env bash
# Regenerates Sources/InterlinkMesh/Generated/*.swift from Protos/etcd/*.proto: the subset of
# etcd's v3 API that Interlink serves and uses (packages mvccpb, authpb, etcdserverpb).
#
# Needs Debian's protoc (`apt-get install -y protobuf-compiler`). The two plugins are built from
# the package checkouts this project resolves (swift-protobuf's protoc-gen-swift and
# grpc-swift-protobuf's protoc-gen-grpc-swift-2), in .build-protoc/, so their versions are the
# ones Package.swift names. The generated files are committed: a normal build needs neither
# protoc nor the plugins.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
swift package resolve
scratch="$PWD/.build-protoc"
swift build -c release --package-path .build/checkouts/grpc-swift-protobuf --scratch-path "$scratch" \
    --product protoc-gen-grpc-swift-2
swift build -c release --package-path .build/checkouts/swift-protobuf --scratch-path "$scratch-swift" \
    --product protoc-gen-swift
out=Sources/InterlinkMesh/Generated
rm -rf "$out" && mkdir -p "$out"
protoc --proto_path=Protos/etcd \
    --plugin=protoc-gen-swift="$scratch-swift/release/protoc-gen-swift" \
    --swift_opt=Visibility=Public --swift_out="$out" \
    --plugin=protoc-gen-grpc-swift="$scratch/release/protoc-gen-grpc-swift-2" \
    --grpc-swift_opt=Visibility=Public,Client=true,Server=true --grpc-swift_out="$out" \
    Protos/etcd/*.proto
# These hold messages only: their gRPC files are empty.
rm -f "$out/kv.grpc.swift" "$out/header.grpc.swift" "$out/kv_requests.grpc.swift" "$out/txn.grpc.swift"
# One file per concern (see the script): a generated file runs past 1,000 lines otherwise.
python3 scripts/split-generated.py "$out"
echo "generated: $(ls "$out" | tr '\n' ' ')"
