"""SLAs and SLOs per tenant: periods in the tenant's timezone, budgets, burn rates (pure)."""
