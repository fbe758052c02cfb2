-- Each channel offer of a procedure says when its fees are collected:
-- "fee_collection" is "after" (the agency requests payment while processing:
-- what every offer meant before this member existed), "before_submission"
-- (the citizen pays to submit) or "exempt". New documents get it from the
-- write path (procedure_rules.c fills the default); this adds "after" to the
-- channel offers of the documents stored before, so every read carries it.
--
-- Published versions are immutable (procedure_versions_guard); the member
-- added means exactly what its absence meant, so the guard is lifted for this
-- one statement inside the migration's transaction. The documents stay `json`
-- with their members in their order: objects are rebuilt with json_each ...
-- WITH ORDINALITY and json_object_agg in that order, the new member last in
-- each channel offer (where the write path puts it); form schemas and every
-- other nested value are copied as they are.
ALTER TABLE procedure_versions DISABLE TRIGGER procedure_versions_immutable;

UPDATE procedure_versions
   SET document = (
       SELECT json_object_agg(d.key, CASE WHEN d.key = 'cases' AND json_typeof(d.value) = 'array' THEN (
                  SELECT json_agg(CASE WHEN json_typeof(c.value) <> 'object' THEN c.value ELSE (
                             SELECT json_object_agg(ck.key, CASE WHEN ck.key = 'channels' AND json_typeof(ck.value) = 'array' THEN (
                                        SELECT json_agg(CASE WHEN json_typeof(ch.value) <> 'object'
                                                              OR ch.value::jsonb ? 'fee_collection' THEN ch.value ELSE (
                                                   SELECT json_object_agg(m.key, m.value ORDER BY m.ord)
                                                     FROM (SELECT e.key, e.value, e.ord
                                                             FROM json_each(ch.value) WITH ORDINALITY AS e(key, value, ord)
                                                           UNION ALL
                                                           SELECT 'fee_collection', '"after"'::json, 2147483647) AS m)
                                                 END ORDER BY ch.ord)
                                          FROM json_array_elements(ck.value) WITH ORDINALITY AS ch(value, ord))
                                      ELSE ck.value END ORDER BY ck.ord)
                               FROM json_each(c.value) WITH ORDINALITY AS ck(key, value, ord))
                         END ORDER BY c.ord)
                    FROM json_array_elements(d.value) WITH ORDINALITY AS c(value, ord))
              ELSE d.value END ORDER BY d.ord)
         FROM json_each(document) WITH ORDINALITY AS d(key, value, ord))
 WHERE EXISTS (SELECT 1
                 FROM json_array_elements(CASE WHEN json_typeof(document -> 'cases') = 'array'
                                               THEN document -> 'cases' ELSE '[]'::json END) AS c(value),
                      json_array_elements(CASE WHEN json_typeof(c.value -> 'channels') = 'array'
                                               THEN c.value -> 'channels' ELSE '[]'::json END) AS ch(value)
                WHERE json_typeof(ch.value) = 'object' AND NOT ch.value::jsonb ? 'fee_collection');

ALTER TABLE procedure_versions ENABLE TRIGGER procedure_versions_immutable;
