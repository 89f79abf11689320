{#- Getis-Ord Gi* hot and cold spots on the 250 m grid, by offence class and year.

    Weights: binary queen contiguity including the cell itself (the 3 × 3 block around
    it, fewer at the city's edge), over every grid cell, zeros included. For cell i with
    count x_i, n cells, mean x̄ and population standard deviation s of the counts,
    W_i = Σ_j w_ij:
        z_i = (Σ_j w_ij x_j − x̄ W_i) / (s · sqrt((n W_i − W_i²) / (n − 1)))
    (Getis & Ord 1992, Ord & Getis 1995; identical to PySAL esda.G_Local(star=True,
    transform="B").Zs, which a test checks to 1e-6). The two-sided p-value uses the
    normal approximation (erf by Abramowitz & Stegun 7.1.26, error < 1.5e-7).
    Persistence: in how many of the years with data the cell was a hot spot at 95 %.
    Coverage: a camera point active at some time in the year lies within 150 m of the
    cell. -#}
with cells as (
    select * from {{ ref('dim_grid_cell') }}
),

offences as (
    select * from {{ ref('int_offences_gridded') }}
),

cameras as (
    select * from {{ ref('int_camera_points_current') }}
),

periods as (
    select distinct
        offence_class,
        occurred_year as period_year
    from offences
),

counts as (
    select
        offence_class,
        occurred_year as period_year,
        cell_id,
        count(*) as offence_count
    from offences
    group by all
),

-- every cell in every class-year, zeros included: Gi* is defined over the whole grid
observed as (
    select
        periods.offence_class,
        periods.period_year,
        cells.cell_id,
        coalesce(counts.offence_count, 0) as offence_count
    from periods
    cross join cells
    left join counts
        on periods.offence_class = counts.offence_class
            and periods.period_year = counts.period_year
            and cells.cell_id = counts.cell_id
),

moments as (
    select
        offence_class,
        period_year,
        count(*) as n_cells,
        avg(offence_count) as mean_count,
        sqrt(avg(offence_count * offence_count) - avg(offence_count) * avg(offence_count)) as sd_count
    from observed
    group by all
),

offsets as (
    select
        dc,
        dr
    from generate_series(-1, 1) as c (dc), generate_series(-1, 1) as r (dr)
),

-- the weights, once for the grid: each cell's 3 × 3 block, as (focal, neighbour) pairs
-- matched by equality on the neighbour's id
shifted as (
    select
        cells.cell_id as focal_id,
        'E' || (cells.col_index + offsets.dc) || 'N' || (cells.row_index + offsets.dr) as neighbour_id
    from cells
    cross join offsets
),

pairs as (
    select
        shifted.focal_id,
        shifted.neighbour_id
    from shifted
    inner join cells on shifted.neighbour_id = cells.cell_id
),

block_weights as (
    select
        focal_id,
        count(*) as block_weight
    from pairs
    group by focal_id
),

-- Σ_j w_ij x_j from the non-zero counts only
block_sums as (
    select
        counts.offence_class,
        counts.period_year,
        pairs.focal_id,
        sum(counts.offence_count) as block_sum
    from pairs
    inner join counts on pairs.neighbour_id = counts.cell_id
    group by all
),

neighbourhood as (
    select
        observed.offence_class,
        observed.period_year,
        observed.cell_id,
        coalesce(block_sums.block_sum, 0) as block_sum,
        block_weights.block_weight
    from observed
    inner join block_weights on observed.cell_id = block_weights.focal_id
    left join block_sums
        on observed.offence_class = block_sums.offence_class
            and observed.period_year = block_sums.period_year
            and observed.cell_id = block_sums.focal_id
),

scored as (
    select
        observed.offence_class,
        observed.period_year,
        observed.cell_id,
        observed.offence_count,
        neighbourhood.block_sum,
        neighbourhood.block_weight,
        moments.n_cells,
        case when moments.sd_count > 0 then
                (neighbourhood.block_sum - moments.mean_count * neighbourhood.block_weight)
                / (moments.sd_count * sqrt(
                    (
                        moments.n_cells * neighbourhood.block_weight
                        - neighbourhood.block_weight * neighbourhood.block_weight
                    )
                    / (moments.n_cells - 1.0)
                ))
        end as gi_star_z
    from observed
    inner join neighbourhood
        on observed.offence_class = neighbourhood.offence_class
            and observed.period_year = neighbourhood.period_year
            and observed.cell_id = neighbourhood.cell_id
    inner join moments
        on observed.offence_class = moments.offence_class
            and observed.period_year = moments.period_year
),

with_p as (
    select
        *,
        -- two-sided p = 1 − erf(|z| / √2), erf by Abramowitz & Stegun 7.1.26
        1.0 / (1.0 + 0.3275911 * abs(gi_star_z) / sqrt(2.0)) as t_,
        abs(gi_star_z) / sqrt(2.0) as u_
    from scored
),

classified as (
    select
        offence_class,
        period_year,
        cell_id,
        offence_count,
        block_sum,
        block_weight,
        n_cells,
        gi_star_z,
        case when gi_star_z is not null then
                (
                    0.254829592 * t_ - 0.284496736 * pow(t_, 2) + 1.421413741 * pow(t_, 3)
                    - 1.453152027 * pow(t_, 4) + 1.061405429 * pow(t_, 5)
                ) * exp(-u_ * u_
                )
        end as p_value,
        case
            when gi_star_z >= 2.5758 then 'hot_99'
            when gi_star_z >= 1.9600 then 'hot_95'
            when gi_star_z >= 1.6449 then 'hot_90'
            when gi_star_z <= -2.5758 then 'cold_99'
            when gi_star_z <= -1.9600 then 'cold_95'
            when gi_star_z <= -1.6449 then 'cold_90'
            else 'not_significant'
        end as hotspot_class
    from with_p
),

covered as (
    select distinct
        periods.offence_class,
        periods.period_year,
        cells.cell_id
    from cells
    inner join cameras
        on st_intersects(
                st_geomfromtext(cells.cell_wkt_epsg2180),
                st_buffer(cameras.point_geom, {{ var('camera_radius_m') }})
            )
    inner join periods
        on cameras.installed_date <= make_date(periods.period_year, 12, 31)
            and (cameras.removed_date is null or cameras.removed_date > make_date(periods.period_year, 1, 1))
),

final as (
    select
        classified.offence_class,
        classified.period_year,
        classified.cell_id,
        cells.district_id,
        cells.centroid_easting_m,
        cells.centroid_northing_m,
        classified.offence_count,
        classified.block_sum as neighbourhood_count,
        classified.block_weight as neighbourhood_cells,
        classified.n_cells,
        classified.gi_star_z,
        classified.p_value,
        classified.hotspot_class,
        classified.hotspot_class in ('hot_95', 'hot_99') as is_hotspot_95,
        count(*) filter (where classified.hotspot_class in ('hot_95', 'hot_99')) over (
            partition by classified.offence_class, classified.cell_id
        ) as hot_years,
        count(*) over (partition by classified.offence_class, classified.cell_id) as years_observed,
        covered.cell_id is not null as is_camera_covered
    from classified
    inner join cells on classified.cell_id = cells.cell_id
    left join covered
        on classified.offence_class = covered.offence_class
            and classified.period_year = covered.period_year
            and classified.cell_id = covered.cell_id
)

select
    *,
    hot_years >= 2 and hot_years * 2 >= years_observed as is_persistent_hotspot
from final
