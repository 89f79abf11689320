with source as (
    select * from {{ source('interventions', 'interventions') }}
),

renamed as (
    select
        intervention_id,
        occurred_at,
        occurred_local,
        utc_offset_minutes,
        camera_point_id,
        category_code,
        category_label,
        outcome_code,
        note,
        operator_pseudonym,
        pseudonym_key_id,
        {{ lineage_columns() }}
    from source
),

final as (
    select * from renamed
)

select * from final
