-- Two more reference tables for the public map page, granted column by
-- column so that hotspot_public reads exactly what the page needs and no
-- more (SELECT * on either table is still refused):
--
-- postcodes: the postcode and its WGS84 point, for "crime near LE16 7AG".
-- Code-Point Open is Ordnance Survey's open data, published with these
-- very points, so serving them tells nobody anything new; the crimes near
-- a postcode still come from the anonymised map points (open.*), never
-- from the postcode's own position. Quality, the NHS, county, district and
-- ward codes, and the other projections stay private, as 0003 has them.
--
-- places: slug, name, kind and outline, to count public crimes per named
-- place (/api/place-summaries). The provenance columns (method, sources,
-- who built it) and place_history stay private.
GRANT SELECT (postcode, geom) ON postcodes TO hotspot_public;
GRANT SELECT (slug, name, kind, geom) ON places TO hotspot_public;
