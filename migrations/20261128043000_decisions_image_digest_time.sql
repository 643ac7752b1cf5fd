-- Pages of one image's or one digest's decisions are read newest first, like every
-- page. Indexed by the image (or digest) alone, a page sorted every decision of that
-- image first; indexed with the time after it, a page is read in time order, and only
-- decisions of the same millisecond are sorted by id. Writes cost the same: an entry
-- (image, time) lands where (image) did, at the end of the image's run
-- (`cargo bench -p signet-verifier --bench decisions`).
--
-- Replaces two indexes instead of adding: replicas of the previous build, still
-- running during a rolling upgrade, read through the new ones unchanged. Building
-- them locks the table against writes for as long as it takes; the journal of each
-- replica holds its decisions meanwhile.
DROP INDEX decisions_image;
CREATE INDEX decisions_image_time ON decisions (image, time DESC);
DROP INDEX decisions_digest;
CREATE INDEX decisions_digest_time ON decisions (digest, time DESC);
