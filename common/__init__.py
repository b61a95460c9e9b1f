"""farmwatch.common: what the agent and the collector both use (file helpers, the device-id rule,
backoff, EDID decoding, the enrollment bootstrap identity, the vocabulary, time helpers, program
names). It imports nothing from `farmwatch.agent` or `farmwatch.collector`."""
