"""Publish's domain: documents and their canonical bytes, periods, rankings, subscriptions, delivery
policy and exports. Plain Python — no grpc, protobuf or SQLAlchemy (a test holds this)."""
