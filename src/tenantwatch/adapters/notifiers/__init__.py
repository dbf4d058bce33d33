"""Notification senders: deliver an OutboundRequest over HTTP, SMTP or Apprise."""

from tenantwatch.adapters.notifiers.base import DeliveryResult, Notifiers

__all__ = ["DeliveryResult", "Notifiers"]
