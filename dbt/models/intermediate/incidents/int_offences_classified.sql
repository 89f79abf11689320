{#- Police, City Guard and MCPU records as one stream of located offences, each with
    its analytic class and its district (as delivered or located by Police and MCPU,
    from the boundaries for the City Guard: macros/districts_of_points.sql).

    The class belongs to the article of the code, whoever records it: the key is
    (legal code, article). The City Guard writes bare k.w. articles (`119§1`, `145`,
    `43¹` for the sobriety act; ingestion turns ¹ into ^1), sometimes with `art.` or a
    code; they are read to the Police's key here. An article the taxonomy does not
    list, but whose number falls in a chapter of k.k. or k.w., takes the chapter's
    class (`classified_by = 'chapter'`, `is_unknown_code`); one that fits neither is
    kept as `unclassified` and flagged, never dropped. -#}
with police as (
    select * from {{ ref('int_police_incidents_located') }}
),

city_guard as (
    select * from {{ ref('stg_city_guard__offences') }}
),

mcpu as (
    select * from {{ ref('stg_mcpu__interventions') }}
),

taxonomy as (
    select * from {{ ref('offence_taxonomy') }}
),

chapters as (
    select * from {{ ref('offence_code_chapters') }}
),

-- the Guard's notation in lower case without spaces or a leading `art.`
guard_notation as (
    select
        *,
        regexp_replace(lower(regexp_replace(article_kw, '\s+', '', 'g')), '^art\.?', '') as notation
    from city_guard
),

-- its article, the code's name taken off the end: the number, one letter if a single
-- letter follows it (`178a`, not the `u` of `62ust.1`), or a superscript (`43^1`)
guard_article as (
    select
        *,
        regexp_extract(
            regexp_replace(notation, '(k\.?[kw]\.?|uwtpa|uopn)$', ''),
            '^([0-9]*)([a-z]*)(\.?)',
            ['number', 'letters', 'dot']
        ) as parts,
        regexp_extract(notation, '^[0-9]+(\^[0-9]+)', 1) as superscript
    from guard_notation
),

districts as (
    select * from {{ ref('stg_reference__district_boundaries') }}
),

unioned as (
    select
        'police' as source_system,
        incident_id as source_record_id,
        occurred_at,
        occurred_date,
        legal_code,
        article,
        easting_m,
        northing_m,
        district_id
    from police

    union all

    select
        'city_guard' as source_system,
        record_id as source_record_id,
        occurred_at,
        cast(timezone('Europe/Warsaw', occurred_at) as date) as occurred_date,
        case
            when notation like '%uwtpa%' or notation like '43^1%' then 'uwtpa'
            when notation like '%uopn%' then 'uopn'
            when regexp_matches(notation, 'k\.?k\.?$') then 'kk'
            else 'kw'
        end as legal_code,
        nullif(
            parts.number
            || case when length(parts.letters) = 1 and parts.dot = '' then parts.letters else '' end
            || superscript,
            ''
        ) as article,
        easting_m,
        northing_m,
        cast(null as integer) as district_id
    from guard_article

    union all

    select
        'mcpu' as source_system,
        delivery_id || ':' || cast(source_line as varchar) as source_record_id,
        occurred_at,
        cast(occurred_local as date) as occurred_date,
        'mcpu' as legal_code,
        kind_code as article,
        easting_m,
        northing_m,
        district_id
    from mcpu
),

-- records delivered without a district (the City Guard's) get the one holding the point
unplaced as (
    select
        source_system || ':' || source_record_id as offence_id,
        easting_m,
        northing_m,
        st_point(easting_m, northing_m) as point_geom
    from unioned
    where district_id is null and easting_m is not null
),

{{ districts_of_points('unplaced', 'offence_id') }},

classified as (
    select
        unioned.* exclude (district_id),
        coalesce(unioned.district_id, in_district.district_id) as district_id,
        coalesce(taxonomy.offence_class, chapters.offence_class, 'unclassified') as offence_class,
        case
            when taxonomy.offence_class is not null then 'article'
            when chapters.offence_class is not null then 'chapter'
        end as classified_by,
        taxonomy.offence_class is null as is_unknown_code
    from unioned
    left join in_district on in_district.offence_id = unioned.source_system || ':' || unioned.source_record_id
    left join taxonomy
        on unioned.legal_code = taxonomy.legal_code
            and unioned.article = taxonomy.article
    left join chapters
        on unioned.legal_code = chapters.legal_code
            and try_cast(regexp_extract(unioned.article, '^[0-9]+') as integer)
            between chapters.first_article and chapters.last_article
),

final as (
    select
        source_system || ':' || source_record_id as offence_id,
        *
    from classified
)

select * from final
