with boundaries as (
    select * from {{ ref('stg_reference__district_boundaries') }}
),

population as (
    select * from {{ ref('krakow_districts_population_2019') }}
),

final as (
    select
        boundaries.district_id,
        boundaries.district_no,
        population.district_name,
        population.district_full_name,
        population.area_km2,
        population.population_registered_2019_12_31 as population_2019,
        population.density_per_km2,
        st_x(st_centroid(boundaries.boundary_geom)) as centroid_easting_m,
        st_y(st_centroid(boundaries.boundary_geom)) as centroid_northing_m,
        st_astext(boundaries.boundary_geom) as boundary_wkt_epsg2180
    from boundaries
    inner join population on boundaries.district_id = population.district_id
)

select * from final
