{#- One row per City Guard intervention started from camera observation (SPEC §3).
    The free-text description and the operator's pseudonym stay in staging. -#}
with interventions as (
    select * from {{ ref('stg_interventions__interventions') }}
),

final as (
    select
        intervention_id,
        occurred_at,
        occurred_local,
        cast(occurred_local as date) as occurred_date,
        cast(extract(year from occurred_local) as integer) as occurred_year,
        camera_point_id,
        category_code,
        category_label,
        outcome_code,
        ingested_at
    from interventions
)

select * from final
