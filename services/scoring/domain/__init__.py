"""The scoring domain: rule tables, periods, working days, dossier timing and the rule engine.

Plain Python over the standard library (plus the ``holidays`` calendar). Nothing here knows
about gRPC, protobuf or storage; adapters translate to and from these types.
"""
