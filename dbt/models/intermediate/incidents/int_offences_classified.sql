{#- Police, City Guard and MCPU records as one stream of located offences, each with
    its analytic class from the taxonomy seed; codes the seed does not know are kept
    as `unclassified` and flagged. -#}
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
        null::integer as district_id
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

classified as (
    select
        unioned.*,
        coalesce(taxonomy.offence_class, 'unclassified') as offence_class,
        taxonomy.offence_class is null as is_unknown_code
    from unioned
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
