with source as (
    select * from {{ source('anpr_counts', 'anpr_counts') }}
),

renamed as (
    select
        camera_id,
        hour_start_at,
        hour_start_local,
        reads,
        distinct_vehicles,
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
