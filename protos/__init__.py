"""The project's own gRPC contracts. `*_pb2*.py` are generated: run `make protos`."""
