"""Health-check probes: one small module per check kind (http, tcp, dns, tls, postgres, redis)."""
