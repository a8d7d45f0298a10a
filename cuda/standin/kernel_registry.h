// kernel_registry.h — builds a standin::KernelInfo from a kernel's C++ signature, so the stand-in
// unpacks cuLaunchKernel's parameter array with the sizes and types of the extern "C" declaration
// itself (no hand-written parameter lists to drift from cuda/*.cu).
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "standin.h"

namespace standin {

template <class T>
constexpr char kind_of() {
    using U = std::decay_t<T>;
    if constexpr (std::is_pointer_v<U>) return 'p';
    else if constexpr (std::is_same_v<U, int>) return 'i';
    else if constexpr (std::is_same_v<U, unsigned>) return 'u';
    else if constexpr (std::is_same_v<U, float>) return 'f';
    else if constexpr (std::is_same_v<U, double>) return 'd';
    else if constexpr (std::is_same_v<U, long long> || std::is_same_v<U, long>) return 'l';
    else if constexpr (std::is_same_v<U, bool>) return 'b';
    else return '?';
}

template <auto Kernel>
struct KernelTraits;

template <class... Params, void (*Kernel)(Params...)>
struct KernelTraits<Kernel> {
    static constexpr int count = sizeof...(Params);
    static constexpr std::size_t sizes[sizeof...(Params) + 1] = {sizeof(std::decay_t<Params>)..., 0};
    static constexpr char kinds[sizeof...(Params) + 1] = {kind_of<Params>()..., '\0'};

    template <std::size_t... N>
    static void call(void** params, std::index_sequence<N...>) {
        Kernel(*static_cast<std::decay_t<Params>*>(params[N])...);
    }
    static void invoke(void** params) {
        call(params, std::index_sequence_for<Params...>{});
    }
};

}  // namespace standin

#define JLSTM_STANDIN_KERNEL(name)                                                               \
    standin::KernelInfo {                                                                         \
        #name, &standin::KernelTraits<&name>::invoke, standin::KernelTraits<&name>::count,       \
            standin::KernelTraits<&name>::sizes, standin::KernelTraits<&name>::kinds              \
    }
