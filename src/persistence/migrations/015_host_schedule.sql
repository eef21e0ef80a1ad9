-- Host-aware due times for page scrapes. Claims take due rows oldest first; a batch submitted
-- site by site (as a sitemap import lists them) would give every claim pages of one or two
-- sites, whose politeness delay then leaves most workers waiting, and a large site's backlog
-- would hold back every site submitted after it. Each host books its pages one politeness slot
-- apart from where its previous pages end, so due order interleaves the hosts, and a small site
-- submitted behind a large one is due at once. One row per host ever scheduled, deleted by the
-- retention pass once its slots are long past.
CREATE TABLE IF NOT EXISTS host_schedule (
    host    text PRIMARY KEY,
    next_at timestamptz NOT NULL
);
