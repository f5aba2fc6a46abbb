#include "platform/posix/directory_watch.h"

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <dirent.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace zerobuffer::posix {

std::optional<DirectoryWatch> DirectoryWatch::open(const std::string& directory) {
    FileDescriptor fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd.valid()) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOSYS || errno == ENOMEM) return std::nullopt;
        throw_errno(errno, "inotify_init1");
    }
    const int wd = ::inotify_add_watch(fd.get(), directory.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    if (wd < 0) {
        if (errno == ENOSPC || errno == ENOMEM) return std::nullopt;
        throw_errno(errno, "inotify_add_watch on " + directory);
    }
    return DirectoryWatch(std::move(fd));
}

bool DirectoryWatch::drain(const std::function<void(std::string_view)>& on_name) {
    // Room for many events per read; each is a header plus a NUL-padded name.
    alignas(inotify_event) char buffer[16 * 1024];
    bool complete = true;
    for (;;) {
        const ssize_t n = retry_eintr([&] { return ::read(fd_.get(), buffer, sizeof buffer); });
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return complete;
            throw_errno(errno, "reading inotify events");
        }
        if (n == 0) return complete;
        for (std::size_t at = 0; at + sizeof(inotify_event) <= static_cast<std::size_t>(n);) {
            inotify_event header{};
            std::memcpy(&header, buffer + at, sizeof header);
            const char* name = buffer + at + sizeof(inotify_event);
            if ((header.mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) complete = false;
            if (header.len > 0) on_name(std::string_view(name, ::strnlen(name, header.len)));
            at += sizeof(inotify_event) + header.len;
        }
    }
}

std::vector<std::string> list_directory(const std::string& directory, std::string_view prefix) {
    std::vector<std::string> names;
    DIR* dir = ::opendir(directory.c_str());
    if (dir == nullptr) return names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name(entry->d_name);
        if (name == "." || name == "..") continue;
        if (name.starts_with(prefix)) names.emplace_back(name);
    }
    ::closedir(dir);
    return names;
}

}  // namespace zerobuffer::posix
