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
        {{ lineage_columns() }}
    from source
),

final as (
    select * from renamed
)

select * from final
