with source as (
    select * from {{ source('mcpu', 'mcpu') }}
),

renamed as (
    select
        occurred_local,
        occurred_at,
        is_time_ambiguous,
        is_time_nonexistent,
        street,
        district_id,
        kind_code,
        latitude,
        longitude,
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
