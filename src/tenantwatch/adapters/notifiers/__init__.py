"""Notification senders: deliver an OutboundRequest over HTTP, SMTP or Apprise."""

from tenantwatch.adapters.notifiers.base import Notifiers
from tenantwatch.adapters.notifiers.result import DeliveryResult

__all__ = ["DeliveryResult", "Notifiers"]
