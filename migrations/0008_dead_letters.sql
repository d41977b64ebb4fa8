-- Dead-lettered Kafka records whose copy does not fit the dead-letter topic (a record near the
-- broker's max.message.bytes plus the x-dlq-* headers): the original is kept here whole, and the topic
-- gets its id (header x-dlq-archived-id) with the beginning of the value. One row per source record.
CREATE TABLE dead_letters (
  id uuid PRIMARY KEY,
  source_topic text NOT NULL,
  source_partition integer NOT NULL,
  source_offset bigint NOT NULL,
  record_key bytea,
  record_value bytea,
  -- The original headers as JSON (name -> base64 value), as bytes: names may hold any character.
  record_headers bytea NOT NULL,
  error_code text NOT NULL,
  error_message text NOT NULL,
  attempts integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_topic, source_partition, source_offset)
);
