-- The pipeline's schema: entity tables, their status enums (the seeds' exact values) and the
-- claim/lease/backoff columns of every polled table.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- Status enums. Values and spelling are authoritative; do not "fix" their case.
CREATE TYPE domain_status_enum AS ENUM ('pending', 'processing', 'completed', 'error');
CREATE TYPE domain_extraction_status_enum AS ENUM ('Queued', 'Processing', 'Completed', 'Error');
CREATE TYPE sitemap_analysis_status_enum AS ENUM ('Queued', 'Processing', 'Completed', 'Error');
CREATE TYPE sitemap_curation_status_enum AS ENUM ('New', 'Selected', 'Maybe', 'Not a Fit', 'Archived');
CREATE TYPE gcp_api_deep_scan_status_enum AS ENUM ('Queued', 'Processing', 'Completed', 'Error');
CREATE TYPE sitemap_file_status_enum AS ENUM ('Pending', 'Processing', 'Completed', 'Error');
CREATE TYPE sitemap_import_status_enum AS ENUM ('Queued', 'Processing', 'Completed', 'Error');
CREATE TYPE task_status AS ENUM ('Queued', 'InProgress', 'Completed', 'Error', 'ManualReview',
                                 'Cancelled', 'Paused');

-- Submitted work that is not an entity of its own (searches, scans, single-page scrapes).
CREATE TABLE jobs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_type         text NOT NULL CHECK (job_type IN ('places_search', 'sitemap', 'email_scan', 'page_scrape')),
    status           task_status NOT NULL DEFAULT 'Queued',
    user_id          uuid,
    domain_id        uuid,
    params           jsonb NOT NULL DEFAULT '{}'::jsonb,
    progress         double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    result_data      jsonb,
    error            text,
    cancel_requested boolean NOT NULL DEFAULT false,
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer,
    last_error       text,
    locked_by        text,
    lease_expires_at timestamptz,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX jobs_queued_idx ON jobs (job_type, next_attempt_at) WHERE status = 'Queued';
CREATE INDEX jobs_leased_idx ON jobs (job_type, lease_expires_at) WHERE status = 'InProgress';
CREATE INDEX jobs_type_created_idx ON jobs (job_type, created_at DESC);
-- At most one active email scan per domain: the API's dedupe is enforced by the database.
CREATE UNIQUE INDEX jobs_one_active_email_scan ON jobs (domain_id)
    WHERE job_type = 'email_scan' AND status IN ('Queued', 'InProgress');

CREATE TABLE domains (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    domain                      text NOT NULL UNIQUE,
    created_by                  uuid,
    local_business_id           uuid,
    -- metadata queue (domain_metadata)
    status                      domain_status_enum NOT NULL DEFAULT 'pending',
    title                       text,
    description                 text,
    language                    text,
    emails                      jsonb,
    phones                      jsonb,
    social_links                jsonb,
    tech_stack                  jsonb,
    metadata                    jsonb,
    metadata_fetched_at         timestamptz,
    metadata_attempts           integer NOT NULL DEFAULT 0,
    metadata_max_attempts       integer,
    metadata_last_error         text,
    metadata_locked_by          text,
    metadata_lease_expires_at   timestamptz,
    metadata_next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    -- sitemap curation and submission queue (sitemap_submission)
    sitemap_curation_status     sitemap_curation_status_enum NOT NULL DEFAULT 'New',
    sitemap_analysis_status     sitemap_analysis_status_enum,
    sitemap_analysis_error      text,
    sitemap_analysis_attempts         integer NOT NULL DEFAULT 0,
    sitemap_analysis_max_attempts     integer,
    sitemap_analysis_last_error       text,
    sitemap_analysis_locked_by        text,
    sitemap_analysis_lease_expires_at timestamptz,
    sitemap_analysis_next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domains_metadata_queued_idx ON domains (metadata_next_attempt_at) WHERE status = 'pending';
CREATE INDEX domains_metadata_leased_idx ON domains (metadata_lease_expires_at) WHERE status = 'processing';
CREATE INDEX domains_sitemap_queued_idx ON domains (sitemap_analysis_next_attempt_at)
    WHERE sitemap_analysis_status = 'Queued';
CREATE INDEX domains_sitemap_leased_idx ON domains (sitemap_analysis_lease_expires_at)
    WHERE sitemap_analysis_status = 'Processing';
CREATE INDEX domains_status_idx ON domains (status, created_at DESC);

ALTER TABLE jobs ADD CONSTRAINT jobs_domain_fk FOREIGN KEY (domain_id) REFERENCES domains (id) ON DELETE SET NULL;

-- Places search results awaiting curation; Selected rows queue a deep scan.
CREATE TABLE places_staging (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    place_id           text NOT NULL UNIQUE,
    search_job_id      uuid REFERENCES jobs (id) ON DELETE SET NULL,
    name               text,
    address            text,
    business_type      text,
    location           text,
    latitude           double precision,
    longitude          double precision,
    rating             double precision,
    user_ratings_total integer,
    raw                jsonb,
    status             sitemap_curation_status_enum NOT NULL DEFAULT 'New',
    deep_scan_status   gcp_api_deep_scan_status_enum,
    deep_scan_error    text,
    attempts           integer NOT NULL DEFAULT 0,
    max_attempts       integer,
    last_error         text,
    locked_by          text,
    lease_expires_at   timestamptz,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX places_staging_queued_idx ON places_staging (next_attempt_at) WHERE deep_scan_status = 'Queued';
CREATE INDEX places_staging_leased_idx ON places_staging (lease_expires_at) WHERE deep_scan_status = 'Processing';
CREATE INDEX places_staging_job_idx ON places_staging (search_job_id);

-- Businesses from the Places details API; Selected rows queue domain extraction.
CREATE TABLE local_businesses (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    place_id                 text NOT NULL UNIQUE,
    business_name            text,
    full_address             text,
    phone                    text,
    website_url              text,
    rating                   double precision,
    user_ratings_total       integer,
    raw                      jsonb,
    domain_id                uuid REFERENCES domains (id) ON DELETE SET NULL,
    status                   sitemap_curation_status_enum NOT NULL DEFAULT 'New',
    domain_extraction_status domain_extraction_status_enum,
    domain_extraction_error  text,
    attempts                 integer NOT NULL DEFAULT 0,
    max_attempts             integer,
    last_error               text,
    locked_by                text,
    lease_expires_at         timestamptz,
    next_attempt_at          timestamptz NOT NULL DEFAULT now(),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX local_businesses_queued_idx ON local_businesses (next_attempt_at)
    WHERE domain_extraction_status = 'Queued';
CREATE INDEX local_businesses_leased_idx ON local_businesses (lease_expires_at)
    WHERE domain_extraction_status = 'Processing';

ALTER TABLE domains ADD CONSTRAINT domains_local_business_fk
    FOREIGN KEY (local_business_id) REFERENCES local_businesses (id) ON DELETE SET NULL;

-- Sitemaps discovered for a domain; Selected rows queue an import of their URLs.
CREATE TABLE sitemap_files (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_id                   uuid NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    job_id                      uuid REFERENCES jobs (id) ON DELETE SET NULL,
    url                         text NOT NULL,
    sitemap_type                text,
    discovery_method            text,
    url_count                   integer,
    status                      sitemap_file_status_enum NOT NULL DEFAULT 'Pending',
    deep_scrape_curation_status sitemap_curation_status_enum NOT NULL DEFAULT 'New',
    sitemap_import_status       sitemap_import_status_enum,
    sitemap_import_error        text,
    attempts                    integer NOT NULL DEFAULT 0,
    max_attempts                integer,
    last_error                  text,
    locked_by                   text,
    lease_expires_at            timestamptz,
    next_attempt_at             timestamptz NOT NULL DEFAULT now(),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (domain_id, url)
);
CREATE INDEX sitemap_files_queued_idx ON sitemap_files (next_attempt_at)
    WHERE sitemap_import_status = 'Queued';
CREATE INDEX sitemap_files_leased_idx ON sitemap_files (lease_expires_at)
    WHERE sitemap_import_status = 'Processing';

-- URLs imported from sitemaps.
CREATE TABLE pages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_id       uuid NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    sitemap_file_id uuid REFERENCES sitemap_files (id) ON DELETE SET NULL,
    url             text NOT NULL UNIQUE,
    lastmod         text,
    changefreq      text,
    priority        double precision,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pages_domain_idx ON pages (domain_id);

-- Email addresses found for a domain.
CREATE TABLE contacts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_id  uuid NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    job_id     uuid REFERENCES jobs (id) ON DELETE SET NULL,
    email      text NOT NULL,
    source_url text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (domain_id, email)
);
