with source as (
    select * from {{ source('sos_alerts', 'sos_alerts') }}
),

renamed as (
    select
        event_id,
        point_id,
        pressed_at,
        pressed_local,
        call_duration_s,
        classification,
        camera_point_id,
        note,
        is_in_order,
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
