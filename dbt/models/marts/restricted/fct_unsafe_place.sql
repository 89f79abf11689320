{#- One row per place a respondent marked as dangerous (up to three each), located in
    EPSG:2180, on the analysis grid and in the district whose boundary holds it.
    Respondent-level (a marked place can be one's own street): `restricted` schema;
    mart_district_safety publishes only densities per district. -#}
with responses as (
    select * from {{ ref('stg_survey__responses') }}
),

boundaries as (
    select * from {{ ref('stg_reference__district_boundaries') }}
),

marks as (
    select
        wave,
        respondent_id,
        weight,
        1 as mark_no,
        m1_latitude as latitude,
        m1_longitude as longitude,
        m1_reason as reason
    from responses
    where m1_latitude is not null
    union all
    select
        wave,
        respondent_id,
        weight,
        2 as mark_no,
        m2_latitude as latitude,
        m2_longitude as longitude,
        m2_reason as reason
    from responses
    where m2_latitude is not null
    union all
    select
        wave,
        respondent_id,
        weight,
        3 as mark_no,
        m3_latitude as latitude,
        m3_longitude as longitude,
        m3_reason as reason
    from responses
    where m3_latitude is not null
),

located as (
    select
        *,
        {{ metric_point_from_wgs84('longitude', 'latitude') }} as point_geom
    from marks
),

final as (
    select
        located.wave,
        located.respondent_id::bigint as respondent_id,
        located.mark_no::integer as mark_no,
        located.weight::double as weight,
        located.reason::integer as reason,
        boundaries.district_id,
        st_x(located.point_geom) as easting_m,
        st_y(located.point_geom) as northing_m,
        'E' || floor(st_x(located.point_geom) / {{ var('grid_cell_m') }})::integer
        || 'N' || floor(st_y(located.point_geom) / {{ var('grid_cell_m') }})::integer as cell_id
    from located
    left join boundaries on st_contains(boundaries.boundary_geom, located.point_geom)
)

select * from final
