with source as (
    select * from {{ source('cameras_wbizk', 'cameras_wbizk') }}
),

renamed as (
    select
        camera_point_id,
        cast(_period_key as date) as snapshot_date,
        location_name,
        district_id,
        latitude,
        longitude,
        camera_kind,
        camera_count,
        installed_date,
        last_moved_date,
        removed_date,
        has_fibre,
        has_power,
        capital_cost_pln,
        note,
        easting_m,
        northing_m,
        is_inside_city,
        {{ lineage_columns() }}
    from source
),

final as (
    select * from renamed
)

select * from final
