"""Physical inventory: TMF674 geographic sites (the point through geoalchemy2, radius search on every backend).

Facade for other contexts:

- ``retrieve_site(uow, site_id)`` / ``SiteData``: a site by id (other contexts refer to sites by id string);
- ``SITE_API`` / ``SITE_EVENT_TYPES``: the hub API name and the events it publishes
  (``GeographicSiteCreateEvent``, ``GeographicSiteAttributeValueChangeEvent``,
  ``GeographicSiteStatusChangeEvent``, ``GeographicSiteDeleteEvent``).
"""

from oss.site.domain import haversine_km
from oss.site.service import SITE_API, SITE_EVENT_TYPES, SiteData, retrieve_site

__all__ = ["SITE_API", "SITE_EVENT_TYPES", "SiteData", "haversine_km", "retrieve_site"]
