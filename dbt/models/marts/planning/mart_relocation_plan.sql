{#- Where to move which cameras: the exact solution of the maximal covering location
    problem in int_relocation_solution (HiGHS through scipy), one row per move, with the
    evidence a department head can check. Moves are paired for reading: the camera that
    gives up least with the site that gains most. Positions are given in EPSG:2180 and
    WGS84. -#}
with solution as (
    select * from {{ ref('int_relocation_solution') }}
),

cameras as (
    select
        camera_point_id,
        location_name,
        district_id
    from {{ ref('dim_camera_point') }}
    where is_current
),

final as (
    select
        solution.move_rank::integer as move_rank,
        solution.camera_point_id,
        cameras.location_name as from_location_name,
        cameras.district_id as from_district_id,
        solution.from_easting_m,
        solution.from_northing_m,
        solution.remaining_effect_share,
        solution.value_given_up,
        solution.to_site_id,
        solution.to_easting_m,
        solution.to_northing_m,
        st_y(st_transform(
            st_point(solution.to_easting_m, solution.to_northing_m),
            '{{ var("metric_crs") }}', 'EPSG:4326', always_xy := true
        )) as to_latitude,
        st_x(st_transform(
            st_point(solution.to_easting_m, solution.to_northing_m),
            '{{ var("metric_crs") }}', 'EPSG:4326', always_xy := true
        )) as to_longitude,
        solution.to_area_type,
        solution.to_is_near_children_places,
        solution.to_is_near_transit_node,
        solution.to_has_infrastructure,
        solution.value_gained,
        solution.offences_prevented_per_year,
        solution.net_gain,
        printf(
            '%s: %.0f%% of its effect left (%s), covering %.1f weighted preventable offences a year; '
            || 'the new %s site covers %d new 50 m squares, %.1f offences a year a fresh camera would '
            || 'prevent (%.1f weighted)%s%s; %s',
            solution.camera_point_id, 100 * solution.remaining_effect_share, solution.remaining_effect_basis,
            solution.value_given_up, solution.to_area_type, solution.squares_newly_covered::integer,
            solution.offences_prevented_per_year, solution.value_gained,
            case when solution.to_is_near_children_places then ', schools/playgrounds within 300 m' else '' end,
            case when solution.to_is_near_transit_node then ', a transit node within 300 m' else '' end,
            case when solution.to_has_infrastructure then 'fibre/power within 100 m'
                else 'no fibre/power within 100 m (costlier)'
            end
        ) as evidence,
        solution.plan_objective,
        solution.baseline_objective,
        solution.solver_status,
        solution.solver_mip_gap,
        solution.city_half_life_months,
        solution.city_half_life_basis,
        solution.is_half_life_assumed,
        solution.moves_requested::integer as moves_requested,
        solution.candidate_sites::integer as candidate_sites
    from solution
    left join cameras on solution.camera_point_id = cameras.camera_point_id
)

select * from final
