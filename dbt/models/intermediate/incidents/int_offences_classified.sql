{#- Police, City Guard and MCPU records as one stream of located offences, each with
    its analytic class from the taxonomy seed (codes the seed does not know are kept
    as `unclassified` and flagged) and its district: as delivered or located by Police
    and MCPU, from the boundaries for the City Guard (macros/districts_of_points.sql). -#}
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
        case when article_kw like '43^1%' then 'uwtpa' else 'kw' end as legal_code,
        regexp_extract(article_kw, '^[0-9]+[a-z]?(\^[0-9]+)?') as article,
        easting_m,
        northing_m,
        cast(null as integer) as district_id
    from city_guard

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
        coalesce(taxonomy.offence_class, 'unclassified') as offence_class,
        taxonomy.offence_class is null as is_unknown_code
    from unioned
    left join in_district on in_district.offence_id = unioned.source_system || ':' || unioned.source_record_id
    left join taxonomy
        on unioned.source_system = taxonomy.source_system
            and unioned.legal_code = taxonomy.legal_code
            and unioned.article = taxonomy.article
),

final as (
    select
        source_system || ':' || source_record_id as offence_id,
        *
    from classified
)

select * from final
