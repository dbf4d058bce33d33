"""A simulated multi-tenant SaaS app (AI-Shifu, seed 000) that the tenantwatch demo scrapes."""
