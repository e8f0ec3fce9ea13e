#!/usr/bin/env bash
# Regenerates Sources/LatchWorkloadProto from proto/workload.proto.
#
# The generated Swift is committed, so a normal build needs neither protoc nor the plugins (the
# GRPCProtobufGenerator build plugin would compile protobuf's C++ sources in every clean build).
# Needs protoc (Debian: protobuf-compiler, libprotobuf-dev for google/protobuf/struct.proto) and
# builds the two plugins once, in release, in a scratch package under $WORK (default /tmp).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-/tmp}/latch-protogen"
OUT="$ROOT/Sources/LatchWorkloadProto"

command -v protoc >/dev/null || { echo "error: protoc not found (apt-get install protobuf-compiler libprotobuf-dev)" >&2; exit 1; }
mkdir -p "$WORK"
cat >"$WORK/Package.swift" <<'PKG'
// swift-tools-version: 6.1
import PackageDescription
let package = Package(
    name: "protogen",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: []
)
PKG
(cd "$WORK" && swift build -c release --product protoc-gen-swift && swift build -c release --product protoc-gen-grpc-swift-2)

protoc --proto_path="$ROOT/proto" \
    --plugin=protoc-gen-swift="$WORK/.build/release/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift-2="$WORK/.build/release/protoc-gen-grpc-swift-2" \
    --swift_out="$OUT" --swift_opt=Visibility=Public \
    --grpc-swift-2_out="$OUT" --grpc-swift-2_opt=Visibility=Public,Server=true,Client=true \
    workload.proto
echo "regenerated $OUT"
