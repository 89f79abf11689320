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
        _delivery_id as delivery_id,
        _source_file as source_file,
        _line as source_line,
        _ingested_at as ingested_at
    from source
),

final as (
    select * from renamed
)

select * from final
