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
        {{ lineage_columns() }}
    from source
),

final as (
    select * from renamed
)

select * from final
